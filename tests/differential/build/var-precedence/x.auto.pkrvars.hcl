a = "auto"
f = "auto"
c = "auto"
