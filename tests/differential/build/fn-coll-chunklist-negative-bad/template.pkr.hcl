source "file" "out" {
  target  = "out.txt"
  content = <<EOT
chunklist(["a"], -1) = [${jsonencode(chunklist(["a"], -1))}]
EOT
}

build {
  sources = ["source.file.out"]
}
