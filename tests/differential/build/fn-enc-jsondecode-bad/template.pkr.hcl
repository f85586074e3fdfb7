source "file" "out" {
  target  = "out.txt"
  content = <<EOT
jsondecode("{") = [${jsondecode("{")}]
EOT
}

build {
  sources = ["source.file.out"]
}
