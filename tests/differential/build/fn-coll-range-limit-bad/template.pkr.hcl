source "file" "out" {
  target  = "out.txt"
  content = <<EOT
length(range(1025)) = [${length(range(1025))}]
EOT
}

build {
  sources = ["source.file.out"]
}
