#include "CLLVM.h"

int qemlc_llvm_initialize_native(void) {
    if (LLVMInitializeNativeTarget()) return 1;
    if (LLVMInitializeNativeAsmPrinter()) return 1;
    if (LLVMInitializeNativeAsmParser()) return 1;
    return 0;
}

void qemlc_llvm_initialize_all_targets(void) {
    LLVMInitializeAllTargetInfos();
    LLVMInitializeAllTargets();
    LLVMInitializeAllTargetMCs();
    LLVMInitializeAllAsmPrinters();
    LLVMInitializeAllAsmParsers();
}
