source "file" "out" {
  target  = "out.txt"
  content = <<EOT
${yamlencode({ "1e3" = "k", "true" = "t", "a b" = 1, "x:y" = 2, "-" = 3, "null" = null, n1 = 1e21, n2 = -0, n3 = 0.1, n4 = 1e-7, n5 = 12345678901234567890, n6 = -3.5 })}
${yamlencode([1e21, 100000000000000000000, 0.000001])}
EOT
}
build {
  sources = ["source.file.out"]
}
