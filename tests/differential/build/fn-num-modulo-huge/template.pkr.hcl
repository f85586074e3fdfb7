source "file" "out" {
  target  = "out.txt"
  content = <<EOT
1e20 % 7 = [${1e20 % 7}]
1e30 % 1e15 = [${1e30 % 1e15}]
12345678901234567890123 % 10 = [${12345678901234567890123 % 10}]
EOT
}

build {
  sources = ["source.file.out"]
}
