source "file" "out" {
  target  = "out.txt"
  content = <<EOT
convert("1", number) + 1 = [${convert("1", number) + 1}]
convert(5, string) = [${convert(5, string)}]
convert(true, string) = [${convert(true, string)}]
convert("true", bool) = [${convert("true", bool)}]
convert("false", bool) = [${convert("false", bool)}]
convert(["b", "a", "b"], set(string)) = [${jsonencode(convert(["b", "a", "b"], set(string)))}]
convert({ a = 1 }, map(string)) = [${jsonencode(convert({ a = 1 }, map(string)))}]
convert([1, "a", true], list(string)) = [${jsonencode(convert([1, "a", true], list(string)))}]
convert({ b = 2, a = "x" }, object({ a = string, b = number })) = [${jsonencode(convert({ b = 2, a = "x" }, object({ a = string, b = number })))}]
convert([], list(number)) = [${jsonencode(convert([], list(number)))}]
convert(["1", "2"], list(number)) = [${jsonencode(convert(["1", "2"], list(number)))}]
convert({ n = "1.50" }, map(number)) = [${jsonencode(convert({ n = "1.50" }, map(number)))}]
convert(1e21, string) = [${convert(1e21, string)}]
convert(-0, string) = [${convert(-0, string)}]
convert(1/3, string) == "$${1/3}" = [${convert(1/3, string) == "${1/3}"}]
EOT
}

build {
  sources = ["source.file.out"]
}
