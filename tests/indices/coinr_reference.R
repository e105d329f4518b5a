# Writes COINr's own results for its ASEM example (and method variants) as CSV at full precision.
# Run by tests/indices/test_coinr_r.py when R and the COINr package are installed:
#   Rscript coinr_reference.R OUTPUT_DIR
suppressMessages(library(COINr))
out <- commandArgs(trailingOnly = TRUE)[1]
dir.create(out, showWarnings = FALSE, recursive = TRUE)
full <- function(df) {
  df[] <- lapply(df, function(x) if (is.numeric(x)) ifelse(is.na(x), NA, sprintf("%.17g", x)) else x)
  df
}
wcsv <- function(df, name) utils::write.csv(full(as.data.frame(df)), file.path(out, paste0(name, ".csv")), row.names = FALSE)

coin <- build_example_coin(quietly = TRUE)
for (d in names(coin$Data)) wcsv(coin$Data[[d]], d)
wcsv(ASEM_iData, "iData")
wcsv(ASEM_iMeta, "iMeta")
wcsv(coin$Analysis$Treated$Dets_Table, "treat_details")
wcsv(get_stats(coin, dset = "Raw", nsignif = NULL), "stats_raw")
wcsv(data.frame(alpha = get_cronbach(coin, dset = "Normalised", iCodes = "P2P", Level = 1)), "cronbach_P2P")

norms <- list(
  Z = list(f_n = "n_zscore", f_n_para = list(m_sd = c(10, 2))),
  N1 = list(f_n = "n_minmax", f_n_para = list(l_u = c(1, 100))),
  PR = list(f_n = "n_prank"), D2M = list(f_n = "n_dist2max"),
  FM = list(f_n = "n_fracmax"), RK = list(f_n = "n_rank")
)
c2 <- coin
for (n in names(norms)) {
  c2 <- suppressMessages(Normalise(c2, dset = "Treated", global_specs = norms[[n]], write_to = n))
  wcsv(c2$Data[[n]], n)
}
aggs <- list(AggG = list("a_gmean", NULL), AggH = list("a_hmean", NULL), AggP = list("a_genmean", list(p = 2)))
for (a in names(aggs)) {
  c2 <- suppressMessages(Aggregate(c2, dset = "N1", f_ag = aggs[[a]][[1]], f_ag_para = aggs[[a]][[2]], write_to = a))
  wcsv(c2$Data[[a]], a)
}
N1 <- c2$Data$N1
ic <- ASEM_iMeta$iCode[ASEM_iMeta$Parent %in% "Physical" & ASEM_iMeta$Level == 1]
wc <- ASEM_iMeta$Weight[match(ic, ASEM_iMeta$iCode)]
wc[1] <- 2
wcsv(data.frame(iCode = ic, w = wc), "copeland_w")
wcsv(data.frame(uCode = N1$uCode, cop = a_copeland(N1[ic], w = wc)), "copeland_Physical")
c2 <- suppressMessages(Treat(c2, dset = "Screened", global_specs = list(f1_para = list(winmax = 1)), write_to = "T1"))
wcsv(c2$Data$T1, "T1")
yy <- c(3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4)
wcsv(SA_estimate(yy, N = 5, d = 2)$SensInd, "sa_estimate")

# Sampling rule of get_sensitivity (discrete inputs) on a fixed sample.
u <- c(0.05, 0.2, 0.5, 0.51, 0.9, 0.99, 0.3333, 0.6667, 0.42, 0.77)
wcsv(data.frame(u = u, opt = match(COINr:::sample_2_para(u, c("a", "b", "c"), "discrete"), c("a", "b", "c"))), "sample_2_para")
# Panel imputation of the ASEM panel, and distance to target with targets from iMeta.
wcsv(impute_panel(ASEM_iData_p, imp_type = "latest")$iData_imp, "panel_latest")
wcsv(impute_panel(ASEM_iData_p, imp_type = "linear")$iData_imp, "panel_linear")
wcsv(ASEM_iData_p, "iData_p")
c3 <- suppressMessages(Normalise(coin, dset = "Treated", global_specs = list(f_n = "n_dist2targ", f_n_para = "use_iMeta"), write_to = "D2T"))
wcsv(c3$Data$D2T, "D2T")
pca <- get_PCA(coin, dset = "Normalised", Level = 1, nowarnings = TRUE)
wcsv(pca$Weights, "pca_weights")
# COINr's example purse: screen, treat, normalise over all years at once, aggregate, per year.
purse <- suppressMessages(build_example_purse(quietly = TRUE))
for (d in c("Screened", "Treated", "Normalised", "Aggregated")) wcsv(get_dset(purse, d), paste0("purse_", d))
