source "file" "out" {
  target  = "out.txt"
  content = <<EOT
element([], 0) = [${element([], 0)}]
EOT
}

build {
  sources = ["source.file.out"]
}
