source "file" "out" {
  target  = "out.txt"
  content = <<EOT
keys({}) = [${jsonencode(keys({}))}]
values({}) = [${jsonencode(values({}))}]
keys({ b = 2, a = 1 }) = [${jsonencode(keys({ b = 2, a = 1 }))}]
values({ b = 2, a = 1 }) = [${jsonencode(values({ b = 2, a = 1 }))}]
keys({ "B" = 1, "a" = 2, "_" = 3, "Z" = 4, "10" = 5, "9" = 6, "é" = 7 }) = [${jsonencode(keys({ "B" = 1, "a" = 2, "_" = 3, "Z" = 4, "10" = 5, "9" = 6, "é" = 7 }))}]
values({ z = [1], a = { n = null } }) = [${jsonencode(values({ z = [1], a = { n = null } }))}]
EOT
}

build {
  sources = ["source.file.out"]
}
