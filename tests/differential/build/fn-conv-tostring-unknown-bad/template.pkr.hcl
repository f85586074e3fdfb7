source "file" "out" {
  target  = "out.txt"
  content = <<EOT
tostring(1) = [${tostring(1)}]
EOT
}

build {
  sources = ["source.file.out"]
}
