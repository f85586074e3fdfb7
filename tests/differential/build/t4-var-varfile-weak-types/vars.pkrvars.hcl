nums  = ["1", "2.5"]
tags  = { a = 1, b = true, c = "x", d = 1.50 }
flag  = "true"
count = "21"
name  = 42
