source "file" "out" {
  target  = "out.txt"
  content = <<EOT
[${abs(-0)}] [${abs(-3.5)}] [${max("3", 10)}] [${min("3", 10, "2.5")}] [${max(-0, 0)}] [${ceil(-0.5)}] [${floor(-0.5)}]
[${jsonencode(max(1e21, 1))}] [${signum(-0)}] [${pow(2, 64)}] [${pow(2, -1)}]
[${parseint("-ff", 16)}] [${parseint("0777", 8)}] [${parseint("zz", 36)}]
EOT
}
build {
  sources = ["source.file.out"]
}
