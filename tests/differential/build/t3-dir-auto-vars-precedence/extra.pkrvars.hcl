b = "explicit-file"
c = "explicit-file"
e = "not-auto-loaded"
