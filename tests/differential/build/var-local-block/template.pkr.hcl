local "greeting" {
  expression = "hello ${local.name}"
}
local "secret" {
  expression = upper(local.greeting)
  sensitive  = true
}
locals {
  name = "world"
}
source "file" "out" {
  content = "${local.greeting}|${local.secret}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
