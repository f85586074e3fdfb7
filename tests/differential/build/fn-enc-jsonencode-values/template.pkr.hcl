source "file" "out" {
  target  = "out.txt"
  content = <<EOT
jsonencode(1.0) = [${jsonencode(1.0)}]
jsonencode(1e100) = [${jsonencode(1e100)}]
jsonencode(-0) = [${jsonencode(-0)}]
jsonencode(1/3) = [${jsonencode(1/3)}]
jsonencode(0.1) = [${jsonencode(0.1)}]
jsonencode(-1.5e-7) = [${jsonencode(-1.5e-7)}]
jsonencode(12345678901234567890) = [${jsonencode(12345678901234567890)}]
jsonencode(true) = [${jsonencode(true)}]
jsonencode([]) = [${jsonencode([])}]
jsonencode({}) = [${jsonencode({})}]
jsonencode({ b = [1, { c = null }], a = "x" }) = [${jsonencode({ b = [1, { c = null }], a = "x" })}]
jsonencode([[], {}, [[]]]) = [${jsonencode([[], {}, [[]]])}]
jsonencode({ "z" = 1, "Z" = 2, "é" = 3, "a b" = 4 }) = [${jsonencode({ "z" = 1, "Z" = 2, "é" = 3, "a b" = 4 })}]
jsonencode(["1", 1, true, "true"]) = [${jsonencode(["1", 1, true, "true"])}]
EOT
}

build {
  sources = ["source.file.out"]
}
