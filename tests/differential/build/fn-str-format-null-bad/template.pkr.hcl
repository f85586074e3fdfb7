source "file" "out" {
  target  = "out.txt"
  content = <<EOT
format("%s", null) = [${format("%s", null)}]
EOT
}

build {
  sources = ["source.file.out"]
}
