locals {
  o = {
    zz = "last"
    "a b" = 1
    B = true
    a = [3, 2, 1]
    nested = { y = 1, x = { d = 4, c = 3 }, "10" = "ten", "9" = "nine" }
  }
}
source "file" "out" {
  content = "${jsonencode(local.o)}\n${join(",", keys(local.o))}\n${join(",", keys(local.o.nested))}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
