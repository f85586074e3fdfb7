locals {
  read   = file("x.txt")
  exists = fileexists("x.txt")
}
source "file" "out" {
  content = "${local.read}|${local.exists}|${abspath("x.txt") == "${path.cwd}/x.txt"}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
