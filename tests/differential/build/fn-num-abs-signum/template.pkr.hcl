source "file" "out" {
  target  = "out.txt"
  content = <<EOT
abs(0) = [${abs(0)}]
abs(-0) = [${abs(-0)}]
abs(-3.5) = [${abs(-3.5)}]
abs(12) = [${abs(12)}]
abs(-1e30) = [${abs(-1e30)}]
abs(-0.000001) = [${abs(-0.000001)}]
signum(-12) = [${signum(-12)}]
signum(0) = [${signum(0)}]
signum(-0) = [${signum(-0)}]
signum(7) = [${signum(7)}]
signum(-9223372036854775808) = [${signum(-9223372036854775808)}]
EOT
}

build {
  sources = ["source.file.out"]
}
