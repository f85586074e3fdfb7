a = "auto-1"
b = "auto-1"
