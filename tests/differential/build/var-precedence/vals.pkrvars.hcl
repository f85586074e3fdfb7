f = "file"
c = "file"
