a = "z-auto"
b = "z-auto"
c = "z-auto"
d = "z-auto"
