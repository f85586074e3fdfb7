source "file" "out" {
  target  = "out.txt"
  content = <<EOT
cidrsubnet("10.0.0.0/24", 2, 4) = [${cidrsubnet("10.0.0.0/24", 2, 4)}]
EOT
}

build {
  sources = ["source.file.out"]
}
