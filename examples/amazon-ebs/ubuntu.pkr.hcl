# An AMI from the newest Ubuntu 24.04 image, shared with one account, copied to a second region
# and deprecated after a year. Credentials and region come from the AWS SDK's chain
# (AWS_PROFILE, AWS_ACCESS_KEY_ID, ~/.aws/config, an instance role ...).
#
#   kiln build -var region=eu-west-1 examples/amazon-ebs/
variable "region" {
  type    = string
  default = "us-east-1"
}

variable "share_with" {
  type    = list(string)
  default = []
}

data "amazon-ami" "ubuntu" {
  region = var.region
  filters = {
    name                = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"
    root-device-type    = "ebs"
    virtualization-type = "hvm"
  }
  owners      = ["099720109477"] # Canonical
  most_recent = true
}

locals {
  stamp = formatdate("YYYYMMDD-hhmm", timestamp())
}

source "amazon-ebs" "web" {
  region        = var.region
  source_ami    = data.amazon-ami.ubuntu.id
  instance_type = "t3.micro"
  ssh_username  = "ubuntu"

  ami_name        = "kiln-web-${local.stamp}"
  ami_description = "Web server, from {{ .SourceAMIName }}"
  ami_regions     = ["us-west-2"]
  ami_users       = var.share_with
  deprecate_at    = timeadd(timestamp(), "8760h")

  tags = {
    Name      = "kiln-web"
    BaseImage = "{{ .SourceAMI }}"
    Builder   = "kiln"
  }
  run_tags = {
    Purpose = "image build"
  }
}

build {
  sources = ["source.amazon-ebs.web"]

  provisioner "shell" {
    inline = [
      "sudo apt-get update -q",
      "sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx",
    ]
  }

  post-processor "manifest" {
    output = "manifest.json"
  }
}
