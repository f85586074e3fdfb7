locals {
  m = { "10" = "a", "9" = "b", "1" = "c", "01" = "d", "-1" = "e", "1.5" = "f", "100" = "g" }
}
source "file" "out" {
  content = "${join(",", keys(local.m))}\n${join(",", values(local.m))}\n${jsonencode(local.m)}\n${join(",", [for k, v in local.m : "${k}=${v}"])}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
