source "file" "out" {
  content = <<EOT
mod=${7 % 3} ${-7 % 3} ${7 % -3} ${5.5 % 2} ${6 % 3}
EOT
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
