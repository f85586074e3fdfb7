source "file" "out" {
  target  = "out.txt"
  content = <<EOT
"yes" ? 1 : 2 = [${"yes" ? 1 : 2}]
EOT
}

build {
  sources = ["source.file.out"]
}
