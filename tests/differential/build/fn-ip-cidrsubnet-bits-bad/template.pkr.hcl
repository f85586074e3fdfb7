source "file" "out" {
  target  = "out.txt"
  content = <<EOT
cidrsubnet("10.0.0.0/24", 9, 0) = [${cidrsubnet("10.0.0.0/24", 9, 0)}]
EOT
}

build {
  sources = ["source.file.out"]
}
