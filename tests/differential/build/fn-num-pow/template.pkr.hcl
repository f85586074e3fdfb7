source "file" "out" {
  target  = "out.txt"
  content = <<EOT
pow(2, 10) = [${pow(2, 10)}]
pow(2, -1) = [${pow(2, -1)}]
pow(2, 0.5) = [${pow(2, 0.5)}]
pow(0, 0) = [${pow(0, 0)}]
pow(10, 21) = [${pow(10, 21)}]
pow(10, -2) = [${pow(10, -2)}]
pow(-2, 3) = [${pow(-2, 3)}]
pow(2, 53) + 1 = [${pow(2, 53) + 1}]
pow(1.5, 2) = [${pow(1.5, 2)}]
pow(3, 40) = [${pow(3, 40)}]
EOT
}

build {
  sources = ["source.file.out"]
}
