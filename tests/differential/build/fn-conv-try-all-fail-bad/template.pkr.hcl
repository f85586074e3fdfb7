locals {
  m = { a = "A" }
  l = ["zero", "one"]
}

source "file" "out" {
  target  = "out.txt"
  content = <<EOT
try(local.m.missing, parseint("x", 10)) = [${try(local.m.missing, parseint("x", 10))}]
EOT
}

build {
  sources = ["source.file.out"]
}
