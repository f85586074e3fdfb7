source "file" "out" {
  target  = "out.txt"
  content = <<EOT
jsondecode("1 2") = [${jsondecode("1 2")}]
EOT
}

build {
  sources = ["source.file.out"]
}
