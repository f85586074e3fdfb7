source "file" "out" {
  target  = "out.txt"
  content = <<EOT
format("%f", 3.14159) = [${format("%f", 3.14159)}]
format("%.2f", 3.14159) = [${format("%.2f", 3.14159)}]
format("%.2f", 2.675) = [${format("%.2f", 2.675)}]
format("%8.3f|", 3.14159) = [${format("%8.3f|", 3.14159)}]
format("%-8.1f|", -3.14159) = [${format("%-8.1f|", -3.14159)}]
format("%e", 123456.789) = [${format("%e", 123456.789)}]
format("%E", 0.000123) = [${format("%E", 0.000123)}]
format("%g", 1e21) = [${format("%g", 1e21)}]
format("%g", 0.0001) = [${format("%g", 0.0001)}]
format("%g", 100000) = [${format("%g", 100000)}]
format("%.3g", 3.14159) = [${format("%.3g", 3.14159)}]
format("%f", 1/3) = [${format("%f", 1/3)}]
format("%.0f", 0.5) = [${format("%.0f", 0.5)}]
format("%.0f", 1.5) = [${format("%.0f", 1.5)}]
format("%f", 1e21) = [${format("%f", 1e21)}]
format("%g", 1/3) = [${format("%g", 1/3)}]
EOT
}

build {
  sources = ["source.file.out"]
}
