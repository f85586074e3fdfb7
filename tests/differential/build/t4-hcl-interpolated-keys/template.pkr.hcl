locals {
  k   = "dyn"
  obj = {
    "${local.k}-a" = 1
    (local.k)      = 2
    "plain"        = 3
    k              = 4
  }
  nested = "${"${local.k}-${"inner"}"}"
}
source "file" "out" {
  target  = "out.txt"
  content = "${jsonencode(local.obj)}\n${local.nested}\n${local.obj["dyn-a"]}\n"
}
build {
  sources = ["source.file.out"]
}
