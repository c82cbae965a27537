# Reference numbers from R's survey package for tests/test_reference_r.py.
#
# Usage (from the project root): Rscript tests/reference/reference.R
# Needs: r-base-core, r-cran-survey (Debian). Writes tests/reference/<name>_results.csv for every
# data set tests/reference/data/<name>_respondents.csv (+ _population.csv), in long form:
#   dataset, variable, analysis, group, term, value
# The design is the project's reference design (docs/methods.md):
#   d0 <- svydesign(ids = ~1, strata = ~kommune, weights = ~1, data = respondents)
#   d  <- postStratify(d0, ~stratum, population_counts_per_stratum)

suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "fail")

here <- "tests/reference"
questions <- c("tillid", "tilfredshed", "tro_paa_job")
groups <- c("maalgruppe", "koen", "tilknytning", "kommune")
out <- list()
add <- function(dataset, variable, analysis, group, term, value) {
  out[[length(out) + 1]] <<- data.frame(dataset = dataset, variable = variable, analysis = analysis,
                                         group = group, term = term, value = format(value, digits = 17),
                                         stringsAsFactors = FALSE)
}

for (name in c("ref1", "ref2")) {
  resp <- read.csv(file.path(here, "data", paste0(name, "_respondents.csv")), stringsAsFactors = FALSE,
                   encoding = "UTF-8")
  pop <- read.csv(file.path(here, "data", paste0(name, "_population.csv")), stringsAsFactors = FALSE,
                  encoding = "UTF-8")
  for (q in questions) resp[[paste0(q, "_f")]] <- factor(resp[[q]], levels = 1:5)
  d0 <- svydesign(ids = ~1, strata = ~kommune, weights = ~1, data = resp)
  d <- postStratify(d0, ~stratum, pop)
  w <- weights(d)
  for (i in seq_along(w)) add(name, "", "weight", resp$person_id[i], "weight", w[i])

  for (q in questions) {
    f <- as.formula(paste0("~", q))
    ff <- as.formula(paste0("~", q, "_f"))
    m <- svymean(f, d, na.rm = TRUE)
    add(name, q, "mean", "", "mean", coef(m)[1]); add(name, q, "mean", "", "se", SE(m)[1])
    s <- svymean(ff, d, na.rm = TRUE)
    for (k in 1:5) { add(name, q, "share", "", paste0("share_", k), coef(s)[k]); add(name, q, "share", "", paste0("se_", k), SE(s)[k]) }
    for (g in groups) {
      gf <- as.formula(paste0("~", g))
      b <- svyby(f, gf, d, svymean, na.rm = TRUE)
      for (j in seq_len(nrow(b))) {
        add(name, q, paste0("by_", g), as.character(b[[g]][j]), "mean", b[[q]][j])
        add(name, q, paste0("by_", g), as.character(b[[g]][j]), "se", SE(b)[j])
      }
      bs <- svyby(ff, gf, d, svymean, na.rm = TRUE)
      ses <- SE(bs)
      for (j in seq_len(nrow(bs))) for (k in 1:5) {
        col <- paste0(q, "_f", k)
        add(name, q, paste0("shareby_", g), as.character(bs[[g]][j]), paste0("share_", k), bs[[col]][j])
        add(name, q, paste0("shareby_", g), as.character(bs[[g]][j]), paste0("se_", k), ses[j, k])
      }
      # svychisq counts the levels of both variables over all rows; where a group never answers the
      # question (a filtered question) its table has an empty row and R stops (singular system):
      # such tests are left out of the reference.
      chi <- tryCatch(svychisq(as.formula(paste0("~", q, "_f + ", g)), d, statistic = "F"), error = function(e) NULL)
      if (!is.null(chi)) {
        add(name, q, paste0("raoscott_", g), "", "F", chi$statistic)
        add(name, q, paste0("raoscott_", g), "", "ndf", chi$parameter[["ndf"]])
        add(name, q, paste0("raoscott_", g), "", "ddf", chi$parameter[["ddf"]])
        add(name, q, paste0("raoscott_", g), "", "p", chi$p.value)
      }
      fit <- svyglm(as.formula(paste0(q, " ~ ", g)), d)
      rt <- regTermTest(fit, gf)
      add(name, q, paste0("wald_", g), "", "F", rt$Ftest)
      add(name, q, paste0("wald_", g), "", "df", rt$df)
      add(name, q, paste0("wald_", g), "", "ddf", rt$ddf)
      add(name, q, paste0("wald_", g), "", "p", rt$p)
    }
    tt <- svyttest(as.formula(paste0(q, " ~ in_k")), d)
    add(name, q, "ttest_in_k", "", "t", tt$statistic)
    add(name, q, "ttest_in_k", "", "df", tt$parameter)
    add(name, q, "ttest_in_k", "", "estimate", tt$estimate)
    add(name, q, "ttest_in_k", "", "p", tt$p.value)
  }
  res <- do.call(rbind, out)
  write.csv(res[res$dataset == name, ], file.path(here, paste0(name, "_results.csv")), row.names = FALSE,
            fileEncoding = "UTF-8")
}
cat("R", R.version.string, "survey", as.character(packageVersion("survey")), "\n")
