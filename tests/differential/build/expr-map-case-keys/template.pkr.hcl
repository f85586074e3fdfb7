locals {
  m = { b = 1, B = 2, a = 3, A = 4, _x = 5, "Z" = 6, "é" = 7, "e" = 8 }
}
source "file" "out" {
  content = "${join(",", keys(local.m))}\n${join(",", values(local.m))}\n${jsonencode(local.m)}\n%{ for k, v in local.m }${k}${v}%{ endfor }\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
