# Reference numbers for the non-response tests (tests/test_nonresponse.py): sample against respondents.
# Usage (from the project root): Rscript tests/reference/reference_nonresponse.R
# Design of the sample: SRS within municipality x gender x age band, design weight N_c / n_c.
suppressPackageStartupMessages(library(survey))
s <- read.csv("tests/reference/data/nr1_sample.csv", stringsAsFactors = FALSE, encoding = "UTF-8")
d <- svydesign(ids = ~1, strata = ~kommune, weights = ~design_weight, data = s)
out <- list()
for (v in c("koen", "alder_band", "maalgruppe", "kommune")) {
  chi <- svychisq(as.formula(paste0("~responded + ", v)), d, statistic = "F")
  out[[v]] <- data.frame(variable = v, F = format(chi$statistic, digits = 17), ndf = format(chi$parameter[["ndf"]], digits = 17),
                         ddf = format(chi$parameter[["ddf"]], digits = 17), p = format(chi$p.value, digits = 17))
}
write.csv(do.call(rbind, out), "tests/reference/nr1_results.csv", row.names = FALSE)
