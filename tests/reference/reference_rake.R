# Reference numbers from R's survey package for raked weights (tests/test_reference_rake.py).
#
# Usage (from the project root): Rscript tests/reference/reference_rake.R
# Needs: r-base-core, r-cran-survey (Debian). Reads tests/reference/data/rake1_respondents.csv and
# rake1_population.csv (counts per weighting cell; made by make_rake_data.py) and writes
# tests/reference/rake1_results.csv in long form: dataset, variable, analysis, group, term, value.
# Two designs on the same respondents, municipalities as strata, each respondent its own PSU:
#   rake1    raked within each municipality (margins kommune x alder_band, x koen, x maalgruppe),
#            the project's raking when kommune is among weighting.cells;
#   rake1nat raked to national margins (alder_band, koen, maalgruppe), cells without kommune.
# The margins are given in the order the project rakes them (weighting.cells' order). Raking runs
# to convergence (epsilon 1e-13 of the weight total), so the weights equal the project's.
#
# Tests on the raked designs go to tests/reference/rake1_tests.csv (same long form; group = the
# scope: "all", or a municipality): svychisq(~q_f + g, d, statistic = "F") and
# regTermTest(svyglm(q ~ g, d), ~g) on the whole design (scope "all"; both designs), and, for the
# design raked within municipality, on each municipality's own design (its respondents raked to its
# own margins: the same weights, and what the project's tests within a municipality use). A table
# that svychisq cannot solve (an empty category in a group) is left out.

suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "fail")

here <- "tests/reference"
questions <- c("tillid", "tilfredshed", "tro_paa_job", "ens")
groups <- list(maalgruppe = "maalgruppe", koen = "koen", tilknytning = "tilknytning", kommune = "kommune",
               kommune_koen = c("kommune", "koen"))
out <- list()
add <- function(dataset, variable, analysis, group, term, value) {
  out[[length(out) + 1]] <<- data.frame(dataset = dataset, variable = variable, analysis = analysis,
                                         group = group, term = term, value = format(value, digits = 17),
                                         stringsAsFactors = FALSE)
}

resp <- read.csv(file.path(here, "data", "rake1_respondents.csv"), stringsAsFactors = FALSE, encoding = "UTF-8")
pop <- read.csv(file.path(here, "data", "rake1_population.csv"), stringsAsFactors = FALSE, encoding = "UTF-8")
for (q in questions) resp[[paste0(q, "_f")]] <- factor(resp[[q]], levels = 1:5)
d0 <- svydesign(ids = ~1, strata = ~kommune, weights = ~1, data = resp)
vars <- c("alder_band", "koen", "maalgruppe")
margin_counts <- function(by) lapply(vars, function(v) aggregate(as.formula(paste("Freq ~", paste(c(by, v), collapse = " + "))),
                                                                  data = pop, FUN = sum))
margin_formulas <- function(by) lapply(vars, function(v) as.formula(paste("~", paste(c(by, v), collapse = " + "))))
designs <- list(
  rake1 = rake(d0, margin_formulas("kommune"), margin_counts("kommune"), control = list(maxit = 1000, epsilon = 1e-13)),
  rake1nat = rake(d0, margin_formulas(character(0)), margin_counts(character(0)),
                  control = list(maxit = 1000, epsilon = 1e-13))
)

for (name in names(designs)) {
  d <- designs[[name]]
  w <- weights(d)
  for (i in seq_along(w)) add(name, "", "weight", resp$person_id[i], "weight", w[i])
  for (q in questions) {
    f <- as.formula(paste0("~", q))
    ff <- as.formula(paste0("~", q, "_f"))
    m <- svymean(f, d, na.rm = TRUE)
    add(name, q, "mean", "", "mean", coef(m)[1]); add(name, q, "mean", "", "se", SE(m)[1])
    s <- svymean(ff, d, na.rm = TRUE)
    for (k in 1:5) { add(name, q, "share", "", paste0("share_", k), coef(s)[k]); add(name, q, "share", "", paste0("se_", k), SE(s)[k]) }
    for (g in names(groups)) {
      gv <- groups[[g]]
      gf <- as.formula(paste0("~", paste(gv, collapse = " + ")))
      label <- function(b) do.call(paste, c(lapply(gv, function(v) as.character(b[[v]])), sep = "|"))
      b <- svyby(f, gf, d, svymean, na.rm = TRUE)
      lb <- label(b)
      for (j in seq_len(nrow(b))) {
        add(name, q, paste0("by_", g), lb[j], "mean", b[[q]][j])
        add(name, q, paste0("by_", g), lb[j], "se", SE(b)[j])
      }
      bs <- svyby(ff, gf, d, svymean, na.rm = TRUE)
      ses <- SE(bs)
      lbs <- label(bs)
      for (j in seq_len(nrow(bs))) for (k in 1:5) {
        col <- paste0(q, "_f", k)
        add(name, q, paste0("shareby_", g), lbs[j], paste0("share_", k), bs[[col]][j])
        add(name, q, paste0("shareby_", g), lbs[j], paste0("se_", k), ses[j, k])
      }
    }
  }
}
res <- do.call(rbind, out)
write.csv(res, file.path(here, "rake1_results.csv"), row.names = FALSE, fileEncoding = "UTF-8")

out <- list()
add_tests <- function(name, scope, d, q, g) {
  chi <- tryCatch(svychisq(as.formula(paste0("~", q, "_f + ", g)), d, statistic = "F"), error = function(e) NULL)
  if (!is.null(chi)) {
    add(name, q, paste0("raoscott_", g), scope, "F", chi$statistic)
    add(name, q, paste0("raoscott_", g), scope, "ndf", chi$parameter[["ndf"]])
    add(name, q, paste0("raoscott_", g), scope, "ddf", chi$parameter[["ddf"]])
    add(name, q, paste0("raoscott_", g), scope, "p", chi$p.value)
  }
  rt <- regTermTest(svyglm(as.formula(paste0(q, " ~ ", g)), d), as.formula(paste0("~", g)))
  add(name, q, paste0("wald_", g), scope, "F", rt$Ftest)
  add(name, q, paste0("wald_", g), scope, "df", rt$df)
  add(name, q, paste0("wald_", g), scope, "ddf", rt$ddf)
  add(name, q, paste0("wald_", g), scope, "p", rt$p)
}
test_questions <- c("tillid", "tilfredshed", "tro_paa_job")
for (name in names(designs)) for (q in test_questions) for (g in c("maalgruppe", "koen", "kommune"))
  add_tests(name, "all", designs[[name]], q, g)
for (k in sort(unique(resp$kommune))) {
  rk <- resp[resp$kommune == k, ]
  dk0 <- svydesign(ids = ~1, weights = ~1, data = rk)
  counts_k <- lapply(vars, function(v) aggregate(as.formula(paste("Freq ~", v)), data = pop[pop$kommune == k, ], FUN = sum))
  dk <- rake(dk0, lapply(vars, function(v) as.formula(paste("~", v))), counts_k,
             control = list(maxit = 1000, epsilon = 1e-13))
  for (q in test_questions) for (g in c("maalgruppe", "koen")) add_tests("rake1", k, dk, q, g)
}
res <- do.call(rbind, out)
write.csv(res, file.path(here, "rake1_tests.csv"), row.names = FALSE, fileEncoding = "UTF-8")
cat("R", R.version.string, "survey", as.character(packageVersion("survey")), "\n")
