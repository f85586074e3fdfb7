source "file" "out" {
  target  = "out.txt"
  content = <<EOT
yamldecode("a: [") = [${jsonencode(yamldecode("a: ["))}]
EOT
}

build {
  sources = ["source.file.out"]
}
