// The LLVM C API, as one module. Only QEMLCodegen imports it.
#include <llvm-c/Core.h>
#include <llvm-c/Analysis.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Support.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

// LLVMInitializeNativeTarget & co. are static inline in the headers; Swift cannot call
// those, so export them as plain functions.
int qemlc_llvm_initialize_native(void);
void qemlc_llvm_initialize_all_targets(void);
