// A source_ami_filter that matches nothing: the build fails before anything is made.
variable "endpoint" { type = string }

source "amazon-ebs" "diff" {
  access_key             = "kiln-moto-key"
  secret_key             = "kiln-moto-secret"
  custom_endpoint_ec2    = var.endpoint
  skip_region_validation = true
  communicator           = "none"
  region = "us-east-1"
  source_ami_filter {
    filters = { name = "no-such-image-*" }
    owners  = ["self"]
  }
  instance_type = "t3.micro"
  ami_name      = "kiln-differential-none"
}

build { sources = ["source.amazon-ebs.diff"] }
