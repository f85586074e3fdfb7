source "file" "out" {
  target  = "out.txt"
  content = <<EOT
format("%z", 1) = [${format("%z", 1)}]
EOT
}

build {
  sources = ["source.file.out"]
}
