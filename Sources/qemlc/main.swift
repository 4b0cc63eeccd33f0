print("qemlc")
