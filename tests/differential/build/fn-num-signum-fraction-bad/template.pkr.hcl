source "file" "out" {
  target  = "out.txt"
  content = <<EOT
signum(-0.1) = [${signum(-0.1)}]
EOT
}

build {
  sources = ["source.file.out"]
}
