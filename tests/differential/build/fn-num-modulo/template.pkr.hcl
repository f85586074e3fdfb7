source "file" "out" {
  target  = "out.txt"
  content = <<EOT
7 % 3 = [${7 % 3}]
-7 % 3 = [${-7 % 3}]
7 % -3 = [${7 % -3}]
7.5 % 2 = [${7.5 % 2}]
-7.5 % 2 = [${-7.5 % 2}]
0 % 5 = [${0 % 5}]
EOT
}

build {
  sources = ["source.file.out"]
}
