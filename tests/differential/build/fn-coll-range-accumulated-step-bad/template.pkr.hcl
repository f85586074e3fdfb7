source "file" "out" {
  target  = "out.txt"
  content = <<EOT
element(range(0, 102.4, 0.1), 1023) = [${element(range(0, 102.4, 0.1), 1023)}]
EOT
}

build {
  sources = ["source.file.out"]
}
