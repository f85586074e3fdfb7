source "file" "out" {
  target  = "out.txt"
  content = <<EOT
[${try(local.obj.missing, "no-attr")}] [${try(local.obj.a.b, "not-obj")}] [${try(local.lst[5], "oob")}]
[${can(local.obj.a)}] [${can(local.obj.zz)}] [${can(local.lst[0])}] [${can(local.lst[3])}] [${can(local.map.k1)}]
[${try(jsondecode("{bad"), "bad-json")}] [${try(local.map["k2"], "nokey")}] [${jsonencode(try(local.obj, {}))}]
EOT
}
build {
  sources = ["source.file.out"]
}
locals {
  obj = { a = "str" }
  lst = ["x"]
  map = { k1 = "v1" }
}
