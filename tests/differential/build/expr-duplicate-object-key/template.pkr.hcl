locals {
  o = { a = 1, b = 2, a = 3 }
}
source "file" "out" {
  content = "${jsonencode(local.o)}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
