source "file" "out" {
  target  = "out.txt"
  content = <<EOT
jsonencode(null) = [${jsonencode(null)}]
EOT
}

build {
  sources = ["source.file.out"]
}
