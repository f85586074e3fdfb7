a = "one-a"
b = "one-b"
