source "file" "out" {
  target  = "out.txt"
  content = <<EOT
cidrhost("10.0.0.0", 1) = [${cidrhost("10.0.0.0", 1)}]
EOT
}

build {
  sources = ["source.file.out"]
}
