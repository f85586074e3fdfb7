source "file" "out" {
  target  = "out.txt"
  content = <<EOT
range(0, 3, -1) = [${jsonencode(range(0, 3, -1))}]
EOT
}

build {
  sources = ["source.file.out"]
}
