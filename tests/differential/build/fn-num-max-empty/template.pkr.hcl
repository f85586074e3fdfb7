source "file" "out" {
  target  = "out.txt"
  content = <<EOT
max() = [${max()}]
EOT
}

build {
  sources = ["source.file.out"]
}
