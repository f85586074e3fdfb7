source "file" "out" {
  target  = "out.txt"
  content = <<EOT
format("%d", 1.5) = [${format("%d", 1.5)}]
EOT
}

build {
  sources = ["source.file.out"]
}
