source "file" "out" {
  target  = "out.txt"
  content = <<EOT
csvdecode("") = [${jsonencode(csvdecode(""))}]
EOT
}

build {
  sources = ["source.file.out"]
}
