# Reference numbers from R's survey package for tests/test_adjusted.py (the adjusted comparison:
# municipality effects in deviation coding, svyglm + svycontrast + regTermTest).
#
# Usage (from the project root): Rscript tests/reference/reference_adjusted.R
# Needs: r-base-core, r-cran-survey (Debian). Reads tests/reference/data/<name>_respondents.csv and
# _population.csv (the data sets of reference.R) and writes tests/reference/adjusted_results.csv in
# long form: dataset, variable, model, term, quantity, value.
# Design as in reference.R: each respondent a PSU, municipalities strata, post-stratified to the
# collapsed weighting cells. Models, every factor in contr.sum coding, levels in code-point order
# (sort(method = "radix"), as Python's sorted):
#   raw:      score ~ kommune
#   adjusted: score ~ kommune + maalgruppe + alder_band + koen + tilknytning
# The last municipality's effect is minus the sum of the others (svycontrast); the joint test of
# the municipality term is regTermTest(fit, ~kommune) (Wald F, df = fit$df.residual).

suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "fail", contrasts = c("contr.sum", "contr.poly"))

here <- "tests/reference"
questions <- c("tillid", "tilfredshed", "tro_paa_job")
factors <- c("kommune", "maalgruppe", "alder_band", "koen", "tilknytning")
models <- list(raw = "kommune", adjusted = paste(factors, collapse = " + "))
out <- list()
add <- function(dataset, variable, model, term, quantity, value) {
  out[[length(out) + 1]] <<- data.frame(dataset = dataset, variable = variable, model = model, term = unname(term),
                                         quantity = quantity, value = format(as.numeric(value)[1], digits = 17),
                                         stringsAsFactors = FALSE)
}

for (name in c("ref1", "ref2")) {
  resp <- read.csv(file.path(here, "data", paste0(name, "_respondents.csv")), stringsAsFactors = FALSE,
                   encoding = "UTF-8")
  pop <- read.csv(file.path(here, "data", paste0(name, "_population.csv")), stringsAsFactors = FALSE,
                  encoding = "UTF-8")
  for (f in factors) resp[[f]] <- factor(resp[[f]], levels = sort(unique(resp[[f]]), method = "radix"))
  d0 <- svydesign(ids = ~1, strata = ~kommune, weights = ~1, data = resp)
  d <- postStratify(d0, ~stratum, pop)
  for (q in questions) {
    for (m in names(models)) {
      fit <- svyglm(as.formula(paste(q, "~", models[[m]])), d)
      cf <- coef(fit)
      V <- vcov(fit)
      ci <- confint(fit)
      # name the coefficients variable[level]: contr.sum numbers the first K-1 levels
      used <- model.frame(fit)
      labels <- c("(Intercept)")
      for (f in all.vars(as.formula(paste("~", models[[m]])))) {
        lv <- levels(droplevels(used[[f]]))
        labels <- c(labels, paste0(f, "[", lv[-length(lv)], "]"))
      }
      stopifnot(length(labels) == length(cf))
      for (i in seq_along(cf)) {
        add(name, q, m, labels[i], "estimate", cf[i])
        add(name, q, m, labels[i], "se", sqrt(V[i, i]))
        add(name, q, m, labels[i], "ci_lower", ci[i, 1])
        add(name, q, m, labels[i], "ci_upper", ci[i, 2])
        add(name, q, m, labels[i], "p", summary(fit)$coefficients[i, 4])
      }
      # the omitted (last) municipality: minus the sum of the others
      k_lv <- levels(droplevels(used$kommune))
      L <- setNames(rep(0, length(cf)), names(cf))
      L[grep("^kommune", names(cf))] <- -1
      last <- svycontrast(fit, L)
      add(name, q, m, paste0("kommune[", k_lv[length(k_lv)], "]"), "estimate", coef(last))
      add(name, q, m, paste0("kommune[", k_lv[length(k_lv)], "]"), "se", SE(last))
      add(name, q, m, "", "df_residual", fit$df.residual)
      rt <- regTermTest(fit, ~kommune)
      add(name, q, m, "kommune", "F", rt$Ftest)
      add(name, q, m, "kommune", "df", rt$df)
      add(name, q, m, "kommune", "ddf", rt$ddf)
      add(name, q, m, "kommune", "p", rt$p)
    }
  }
}
res <- do.call(rbind, out)
write.csv(res, file.path(here, "adjusted_results.csv"), row.names = FALSE, fileEncoding = "UTF-8")
cat("R", R.version.string, "survey", as.character(packageVersion("survey")), "\n")
